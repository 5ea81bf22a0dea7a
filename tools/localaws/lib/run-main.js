// How the stack's servers end: main() resolves to an exit status to exit
// with at once, or to undefined while its servers keep the process alive; a
// rejection is logged and exits 1.
export function runMain(main, log) {
  main().then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (err) => {
      log(err.stack ?? String(err));
      process.exit(1);
    },
  );
}
