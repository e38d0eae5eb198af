// Imported first by the entry points: a Node.js older than 22 gets one line saying what to do,
// not an obscure failure deep in a dependency.

/** Oldest Node.js major version Stello Server runs on. */
export const MIN_NODE_MAJOR = 22;

/** The one-line refusal for `version` (e.g. `v20.1.0`), or `null` when it is recent enough. */
export function nodeVersionProblem(version: string): string | null {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return null;
  return `Stello Server needs Node.js ${MIN_NODE_MAJOR} or newer (this is ${version}): install a current Node.js`;
}

const problem = nodeVersionProblem(process.version);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
