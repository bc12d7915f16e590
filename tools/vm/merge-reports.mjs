// Merges the vitest JSON reports of one kernel's VM boots (tools/vm/test.sh runs a kernel's suites
// as one or more parts) into one report, records the run beside it (`bpfTsVm`) and prints the
// kernel's summary line. Exits 1 when any part failed or left no report.
//
//   node merge-reports.mjs STATUS_DIR KERNEL DEST JOBS PART...
//
// STATUS_DIR holds <kernel>.<part>.json (vitest's report), .status (exit status) and .seconds.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, kernel, dest, jobs, ...parts] = process.argv.slice(2);
const read = (part, ext) => {
  const f = join(dir, `${kernel}.${part}.${ext}`);
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined;
};
const COUNTS = [
  'numTotalTestSuites',
  'numPassedTestSuites',
  'numFailedTestSuites',
  'numPendingTestSuites',
  'numTotalTests',
  'numPassedTests',
  'numFailedTests',
  'numPendingTests',
  'numTodoTests',
];

let merged;
let ok = true;
const seconds = [];
const statuses = [];
for (const part of parts) {
  const status = Number(read(part, 'status') ?? 1);
  statuses.push(status);
  seconds.push(Number(read(part, 'seconds') ?? 0));
  const text = read(part, 'json');
  if (status !== 0 || text === undefined) ok = false;
  if (text === undefined) continue;
  const r = JSON.parse(text);
  if (!merged) merged = { ...r, testResults: [...(r.testResults ?? [])] };
  else {
    for (const c of COUNTS) merged[c] = (merged[c] ?? 0) + (r[c] ?? 0);
    merged.testResults.push(...(r.testResults ?? []));
    merged.startTime = Math.min(merged.startTime, r.startTime);
    merged.success = merged.success && r.success;
  }
}
const took =
  parts.length > 1
    ? `${seconds.reduce((a, b) => a + b, 0)}s in ${parts.length} boots (${parts.map((p, i) => `${p} ${seconds[i]}s`).join(', ')})`
    : `${seconds[0]}s`;
let counts = '';
if (merged) {
  merged.bpfTsVm = {
    kernel,
    seconds: seconds.reduce((a, b) => a + b, 0),
    parts: Object.fromEntries(parts.map((p, i) => [p, { seconds: seconds[i], status: statuses[i] }])),
    status: ok ? 0 : 1,
    jobs: Number(jobs),
    finishedAt: new Date().toISOString(),
  };
  writeFileSync(dest, JSON.stringify(merged));
  counts = ` (${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ${merged.numPendingTests + merged.numTodoTests} skipped)`;
}
const failedStatus = statuses.find((s) => s !== 0);
console.log(
  ok
    ? `vm: kernel ${kernel}: ok in ${took}${counts}`
    : `vm: kernel ${kernel}: FAILED (exit ${failedStatus ?? 'no report'}) in ${took}${counts}`,
);
process.exit(ok ? 0 : 1);
