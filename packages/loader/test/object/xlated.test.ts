import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObjectFile } from '../../src/object/load.js';
import { libbpfXlated, xlatedById } from './xlated.js';

const here = new URL('.', import.meta.url).pathname;
const objects = readdirSync(here).filter((f) => f.endsWith('.bpf.o') && !f.startsWith('fail-'));

describe("relocated instructions equal libbpf's (bpftool prog loadall, then dump xlated)", () => {
  for (const file of objects) {
    it(file, () => {
      const path = join(here, file);
      const expected = libbpfXlated(path);
      const obj = loadObjectFile(path);
      try {
        expect(Object.keys(obj.programs).sort()).toEqual([...expected.keys()].sort());
        for (const [name, prog] of Object.entries(obj.programs)) {
          expect(xlatedById(prog.info().id), name).toBe(expected.get(name));
        }
      } finally {
        obj.close();
        rmSync('/sys/fs/bpf/kconfig_runs', { force: true }); // kconfig.bpf.o pins a map by name
      }
    });
  }
});
