import assert from 'node:assert/strict';
import { isAbsolute } from 'node:path';
import { describe, it } from 'node:test';
import {
  builtinResourceTypes,
  makeContext,
  registerResourceType,
  resourceCommand,
  type ResourceTypeImpl,
} from '../../src/resources/index.ts';
import { runResource } from './helpers.ts';

describe('the built-in resource type registry', () => {
  it('holds mock, time and git', () => {
    for (const name of ['mock', 'time', 'git']) {
      const impl = builtinResourceTypes[name];
      assert.ok(impl, name);
      assert.equal(impl.name, name);
    }
  });

  it('registerResourceType adds a type that the CLI can run', async () => {
    const fake: ResourceTypeImpl = {
      name: 'fake',
      check: async () => [{ v: '1' }],
      in: async (req) => ({ version: req.version, metadata: [] }),
      out: async () => ({ version: { v: '2' }, metadata: [] }),
    };
    registerResourceType('fake', fake);
    assert.equal(builtinResourceTypes.fake, fake);
    assert.deepEqual(await builtinResourceTypes.fake?.check({ source: {} }, makeContext()), [{ v: '1' }]);
    delete builtinResourceTypes.fake;
  });

  it('resourceCommand runs cli.ts with absolute paths, from any working directory', async () => {
    const { command, args } = resourceCommand('mock', 'in', '/tmp/dest');
    assert.equal(command, process.execPath);
    assert.deepEqual(args.slice(-3), ['mock', 'in', '/tmp/dest']);
    for (const arg of args.slice(0, -3).filter((a) => !a.startsWith('--'))) {
      assert.ok(isAbsolute(arg.replace(/^file:\/\//, '')), arg);
    }
    // runResource spawns exactly this command with a fresh temporary cwd.
    const result = await runResource('mock', 'check', { source: { force_version: 'anywhere' } });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json(), [{ version: 'anywhere' }]);
  });
});
