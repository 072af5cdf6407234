#!/usr/bin/env node
// The jetway command. Sources are TypeScript run through tsx's loader, so the
// package works straight from a checkout without a separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
