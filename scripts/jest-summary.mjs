// Prints jest's counts as one closing line and fails when a test was skipped or left as todo:
// a suite that quietly skips is not a passing suite.
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = results.numPendingTests + results.numTodoTests;
console.log(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
if (skipped > 0) {
  console.error('jest-summary: skipped or todo tests are not allowed');
  process.exit(1);
}
if (results.numTotalTests === 0 || results.numRuntimeErrorTestSuites > 0) process.exit(1);
