/** pcapng output (`--output-pcapng`): the writer, the event mapping and the in-kernel copy's joiner. */
export { PcapngWriter, type PcapngPacket, type PcapngWriterOptions } from './writer.js';
export { PcapngEventWriter, eventJsonFromCustom, type CapturedPacket, type PcapngEventOptions } from './events.js';
export { LINKTYPE, PWRU_PEN, type LinkType, type InterfaceInfo, type SectionInfo } from './format.js';
export { PacketJoiner } from './joiner.js';
export { readPcapng, type ReadInterface, type ReadPacket, type ReadSection } from './reader.js';
