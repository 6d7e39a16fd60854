import type { BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * How every Rewind function is bundled, written once. CDK's NodejsFunction (`cdkBundling`) and
 * the local cloud's `--bundled` builder (`esbuildOptions`, local/bundles.ts) both map this
 * object, so the code the local cloud runs in bundled mode is built exactly like the code
 * deployed to Lambda. Type-only imports: the local builder does not load aws-cdk-lib.
 */

/** The Lambda runtime the functions are deployed on; the esbuild target follows it. */
export const LAMBDA_RUNTIME_NAME = 'nodejs24.x';

/** `nodejs24.x` → `node24` (esbuild 0.25 accepts any Node major as a target). */
export function nodeTarget(runtimeName: string): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtimeName)?.[1];
  if (!major) throw new Error(`not a Node.js Lambda runtime: ${runtimeName}`);
  return `node${major}`;
}

export interface FunctionBundling {
  format: 'esm';
  /** CDK always bundles for node; the local builder passes it explicitly. */
  platform: 'node';
  target: string;
  minify: boolean;
  /**
   * Keep class and function names through minification: errors are named after their class
   * (`this.name = new.target.name`, functions/core/errors.ts) and state machines Retry/Catch on
   * those names. Without it a minified InvalidInputError is called `yr`.
   */
  keepNames: boolean;
  sourcemap: boolean;
  /** Line mapping only: keeps the sources out of the deployment package. */
  sourcesContent: boolean;
  mainFields: string[];
  /** CommonJS dependencies inside an ESM bundle still call require(). */
  banner: string;
  /** Bundle the SDK: pin the version we test with instead of the runtime's. */
  bundleAwsSdk: boolean;
  logLevel: 'warning';
}

export const functionBundling: FunctionBundling = {
  format: 'esm',
  platform: 'node',
  target: nodeTarget(LAMBDA_RUNTIME_NAME),
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __rewindCreateRequire } from 'node:module'; const require = __rewindCreateRequire(import.meta.url);",
  bundleAwsSdk: true,
  logLevel: 'warning',
};

/** The bundle file name CDK writes for an ESM function, and the local builder too. */
export const BUNDLE_FILE = 'index.mjs';

/** NodejsFunction's `bundling` for these options (local esbuild, never Docker). */
export function cdkBundling(b: FunctionBundling = functionBundling): BundlingOptions {
  return {
    format: b.format as OutputFormat,
    target: b.target,
    minify: b.minify,
    keepNames: b.keepNames,
    sourceMap: b.sourcemap,
    sourcesContent: b.sourcesContent,
    mainFields: b.mainFields,
    banner: b.banner,
    bundleAwsSDK: b.bundleAwsSdk,
    // CDK's default when the SDK is not bundled: the runtime provides @aws-sdk/*.
    ...(b.bundleAwsSdk ? {} : { externalModules: ['@aws-sdk/*'] }),
    forceDockerBundling: false,
    logLevel: b.logLevel as LogLevel,
  };
}

/** `esbuild.build` options for one function entry: what CDK runs, with the same options. */
export function esbuildOptions(
  entryPoint: string,
  outfile: string,
  b: FunctionBundling = functionBundling,
): BuildOptions & { entryPoints: string[]; outfile: string } {
  return {
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    format: b.format,
    platform: b.platform,
    target: b.target,
    minify: b.minify,
    keepNames: b.keepNames,
    sourcemap: b.sourcemap,
    sourcesContent: b.sourcesContent,
    mainFields: b.mainFields,
    banner: { js: b.banner },
    external: b.bundleAwsSdk ? [] : ['@aws-sdk/*'],
    logLevel: b.logLevel,
  };
}
