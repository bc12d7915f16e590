console.error('pwru: not built yet');
process.exitCode = 1;
