// Imported first by main.ts (its own module, so it runs before the server's packages load): an old
// Node gets one line saying what to do. The server's CLI does the same in its require-node.ts.
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(
    `pnpm start needs Node.js 22 or newer (this is ${process.version}): install a current Node.js\n`,
  );
  process.exit(1);
}
