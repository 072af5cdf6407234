// Loads the algorithm case file for the table tests: the sample copied into fixtures/, or the
// file named by JETWAY_ALGORITHM_CASES (e.g. the full acceptance set).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCaseFile, type CaseFile } from '../support/algorithm/cases.ts';

export const caseFilePath =
  process.env.JETWAY_ALGORITHM_CASES ??
  fileURLToPath(new URL('./fixtures/algorithm-cases.sample.json', import.meta.url));

export function loadCases(): CaseFile {
  return parseCaseFile(JSON.parse(readFileSync(caseFilePath, 'utf8')));
}
