console.error("bpf-asm: the CLI is not implemented yet"); process.exitCode = 1;
