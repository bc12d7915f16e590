# Socket filter: keep IPv4 TCP segments to or from port 22 (ssh), drop everything else.
# Packet data starts at the IP header, as on an AF_INET raw socket or under BPF_PROG_TEST_RUN.
# Assemble:   npx bpf-asm asm packages/asm/examples/socket-filter.s --hex
# Load it as BPF_PROG_TYPE_SOCKET_FILTER and attach with setsockopt(SO_ATTACH_BPF).

	r6 = r1                         # LD_ABS/LD_IND read the packet through the skb in r6
	r0 = *(u8 *)skb[0]              # IP version and header length
	r1 = r0
	r1 >>= 4
	if r1 != 4 goto drop            # not IPv4
	r0 &= 15
	r0 <<= 2                        # header length in bytes
	r7 = r0
	r0 = *(u8 *)skb[9]              # protocol
	if r0 != 6 goto drop            # not TCP
	r0 = *(u16 *)skb[6]             # flags and fragment offset (converted to host order)
	if r0 & 0x1fff goto drop        # a later fragment carries no TCP header
	r0 = *(u16 *)skb[r7]            # TCP source port
	if r0 == 22 goto keep
	r7 += 2
	r0 = *(u16 *)skb[r7]            # TCP destination port
	if r0 == 22 goto keep
drop:
	r0 = 0                          # keep 0 bytes: drop
	exit
keep:
	r0 = -1                         # keep the whole packet
	exit
