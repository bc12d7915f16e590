import { describe, expect, it } from 'vitest';
import { settleHeap } from './settle.js';

describe('settleHeap', () => {
  it('collects garbage, then trims the C heap once', () => {
    let trims = 0;
    settleHeap(() => {
      trims++;
      return true;
    });
    expect(trims).toBe(1);
  });

  it('leaves gc unexposed afterwards', () => {
    settleHeap(() => false);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
