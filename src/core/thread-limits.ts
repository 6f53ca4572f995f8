import type { ResourceLimits } from 'node:worker_threads';

/**
 * V8 limits for the engine's helper threads (walk workers, commit thread, checkpoint thread).
 *
 * Their hot paths allocate little: typed arrays over shared buffers, a commit message per
 * batch. V8 still grows each isolate's young generation to its default maximum (two 16 MiB
 * semi-spaces) and keeps it while the thread idles, and nothing collects an idle worker. With
 * four helpers that was about 60 MiB of resident memory at 10M distributors, over the 1.5 GB
 * target (`bench/memory.bench.ts`). A 4 MiB young generation costs them nothing measurable;
 * the sequencer thread, which parses every event, keeps V8's default.
 */
export const HELPER_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

/**
 * The commit thread's limits. Unlike the other helpers it allocates per event (an id string
 * and a body view for every logged event), about 3 MiB for a 16k-event batch, while the batch
 * is still being written: with a 4 MiB young generation that survived into the old generation
 * and cost the thread 2.7 s of GC in 31 s of replay.
 */
export const COMMIT_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 48 };
