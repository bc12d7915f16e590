import { describe, expect, it } from 'vitest';
import { FakeBackend } from './fake-backend.js';
import { KoffiBackend } from './koffi-backend.js';
import { trimMallocHeap } from './malloc.js';

describe('trimMallocHeap', () => {
  it('asks the backend to trim the C heap once per call', () => {
    const b = new FakeBackend();
    expect(trimMallocHeap(b)).toBe(false);
    trimMallocHeap(b);
    expect(b.mallocTrims).toBe(2);
  });

  it("calls glibc's malloc_trim for real, answering whether memory was released", () => {
    expect(typeof trimMallocHeap(new KoffiBackend())).toBe('boolean');
  });
});
