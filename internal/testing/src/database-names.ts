// Every database a run creates carries the run's id, so its teardown can drop exactly its own
// leftovers on a server other runs may share.

/** Name of the migrated template database of run `runId`. */
export function templateDatabaseName(runId: string): string {
  return `stello_tpl_${runId}`;
}

/** Prefix of the names of the test databases of run `runId`. */
export function testDatabasePrefix(runId: string): string {
  return `stello_test_${runId}_`;
}
