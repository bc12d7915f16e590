#!/usr/bin/env node
// Launcher committed so npm can link the bin before the first build.
import '../dist/cli.js';
