/**
 * Which image a stitcher runs. The default comes from the operator (the
 * chart's value), never from the CloudTap, so a chart upgrade moves every
 * stitcher; a CloudTap may name another image only when the chart allows it,
 * since whoever creates a CloudTap would otherwise choose the code its pods run.
 */
import type { CloudTap } from '../api/types.js';
import { defaultImage } from '../api/defaults.js';

export interface ImagePolicy {
  /** The image stitchers run unless a CloudTap may and does name another. */
  readonly defaultImage: string;
  /** Whether spec.stitcher.image is honoured (the chart's stitcher.allowImageOverride). */
  readonly allowOverride: boolean;
}

export const builtInImagePolicy: ImagePolicy = { defaultImage, allowOverride: false };

/** The image in effect: an override only when allowed (a refused one is reported by imageProblem). */
export function imageFor(cloudTap: CloudTap, policy: ImagePolicy): string {
  const requested = cloudTap.spec.stitcher?.image;
  return policy.allowOverride && requested ? requested : policy.defaultImage;
}

/** What to fix when the CloudTap names an image the operator may not use, else undefined. */
export function imageProblem(cloudTap: CloudTap, policy: ImagePolicy): string | undefined {
  const requested = cloudTap.spec.stitcher?.image;
  if (!requested || policy.allowOverride || requested === policy.defaultImage) return undefined;
  return `spec.stitcher.image is set but this operator does not allow image overrides (the chart's stitcher.allowImageOverride is false): remove spec.stitcher.image to run ${policy.defaultImage}, or ask the cluster administrator to allow overrides`;
}
