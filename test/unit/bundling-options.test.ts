import { describe, expect, it } from 'vitest';
import { cdkBundling, esbuildOptions, type FunctionBundling, functionBundling } from '../../cdk/bundling';

/** What CDK's NodejsFunction turns its `bundling` into (the esbuild flags it passes). */
function asEsbuild(b: FunctionBundling) {
  const cdk = cdkBundling(b);
  return {
    format: cdk.format,
    target: cdk.target,
    minify: cdk.minify,
    keepNames: cdk.keepNames,
    sourcemap: cdk.sourceMap,
    sourcesContent: cdk.sourcesContent,
    mainFields: cdk.mainFields,
    banner: cdk.banner,
    external: cdk.bundleAwsSDK ? [] : cdk.externalModules,
    logLevel: cdk.logLevel,
  };
}

function fromLocal(b: FunctionBundling) {
  const local = esbuildOptions('functions/x/handler.ts', '/tmp/x/index.mjs', b);
  return {
    format: local.format,
    target: local.target,
    minify: local.minify,
    keepNames: local.keepNames,
    sourcemap: local.sourcemap,
    sourcesContent: local.sourcesContent,
    mainFields: local.mainFields,
    banner: (local.banner as { js: string }).js,
    external: local.external,
    logLevel: local.logLevel,
  };
}

describe('function bundling options', () => {
  it('CDK and the local builder map the same definition to the same esbuild settings', () => {
    expect(fromLocal(functionBundling)).toEqual(asEsbuild(functionBundling));
  });

  it('keep class names, target the Lambda runtime, bundle the SDK', () => {
    expect(functionBundling).toMatchObject({
      format: 'esm',
      platform: 'node',
      target: 'node24',
      minify: true,
      keepNames: true,
      sourcemap: true,
      sourcesContent: false,
      bundleAwsSdk: true,
    });
    expect(esbuildOptions('e.ts', 'o.mjs')).toMatchObject({ bundle: true, platform: 'node', external: [] });
  });

  it('a change to the definition reaches both (neither keeps its own copy)', () => {
    const changed: FunctionBundling = {
      ...functionBundling,
      target: 'node20',
      keepNames: false,
      minify: false,
      bundleAwsSdk: false,
      banner: '/* changed */',
    };
    expect(fromLocal(changed)).toEqual(asEsbuild(changed));
    expect(fromLocal(changed)).toMatchObject({
      target: 'node20',
      keepNames: false,
      external: ['@aws-sdk/*'],
    });
  });
});
