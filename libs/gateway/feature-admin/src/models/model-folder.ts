import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MANIFEST_FILE,
  type ModelManifest,
  readModelManifest,
} from '@marquee/shared/model-format';
import { ApiError } from '@marquee/gateway/util-http';

/** What an admin says about a model that its folder also says. */
export interface ModelFolderClaim {
  artifactPath: string;
  task: 'text_generation' | 'embedding';
  /** Absent: take the folder's. */
  contextLength?: number;
}

const TASKS: Record<ModelManifest['task'], ModelFolderClaim['task']> = {
  'text-generation': 'text_generation',
  embedding: 'embedding',
};

/**
 * The model's context length, from its folder's `marquee.json` when this gateway can read the
 * folder (one box, or a volume shared with the workers): the folder is the source of truth, so
 * an admin's `context_length` or `task` that disagrees with it is refused rather than stored.
 * Where the folder lives only on the workers, the admin's `context_length` is required and
 * used; the worker still checks every request exactly against the folder it loaded.
 *
 * @throws ApiError 400 naming the field at fault.
 */
export async function contextLengthFromFolder(
  claim: ModelFolderClaim,
): Promise<number> {
  const manifestFile = join(claim.artifactPath, MANIFEST_FILE);
  const present = await stat(manifestFile).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!present) {
    if (claim.contextLength !== undefined) return claim.contextLength;
    throw ApiError.invalidRequest(
      `Missing context_length: there is no ${MANIFEST_FILE} at '${claim.artifactPath}' on the gateway to take it from. Send context_length, or an artifact_path the gateway can read.`,
      'context_length',
      'missing_required_parameter',
    );
  }
  let manifest: ModelManifest;
  try {
    manifest = await readModelManifest(claim.artifactPath);
  } catch (error) {
    throw ApiError.invalidRequest(
      `The model folder at artifact_path cannot be served: ${(error as Error).message}`,
      'artifact_path',
      'invalid_model_folder',
    );
  }
  if (TASKS[manifest.task] !== claim.task)
    throw ApiError.invalidRequest(
      `task '${claim.task}' disagrees with the model folder, which holds a ${manifest.task} model.`,
      'task',
      'invalid_value',
    );
  if (
    claim.contextLength !== undefined &&
    claim.contextLength !== manifest.contextLength
  )
    throw ApiError.invalidRequest(
      `context_length ${claim.contextLength} disagrees with the model folder, whose ${MANIFEST_FILE} says ${manifest.contextLength}. Leave context_length out to take the folder's.`,
      'context_length',
      'invalid_value',
    );
  return manifest.contextLength;
}
