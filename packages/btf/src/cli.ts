console.error('btf-dump: not built yet');
process.exitCode = 1;
