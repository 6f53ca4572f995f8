import { assert } from './assert.js';

/** Below this many elements a range is finished by insertion sort. */
const INSERTION_MAX = 16;

/**
 * Sorts `values[from, to)` ascending, in place, allocating nothing: introsort (quicksort on a
 * median of three, insertion sort for short ranges, heapsort once the recursion is deeper
 * than 2 log2 n, so the worst case stays n log n).
 *
 * Why not `TypedArray.prototype.sort`: on an array over a SharedArrayBuffer V8 sorts a
 * temporary copy of it (to be safe from concurrent writers), which for a column of 10M
 * distributors is 40 MB of memory at the moment the engine's resident memory peaks.
 */
export function sortInt32InPlace(
  values: Int32Array,
  from = 0,
  to = values.length,
  depthLimit = 2 * Math.ceil(Math.log2(to - from + 1)),
): void {
  assert(Number.isInteger(from) && Number.isInteger(to), 'sort range is integral');
  assert(from >= 0 && from <= to && to <= values.length, `sort range [${from}, ${to})`);
  // A test passes a small depthLimit to reach the heapsort fallback.
  assert(Number.isInteger(depthLimit) && depthLimit >= 0, 'sort depth limit');
  introsort(values, from, to, depthLimit);
}

function introsort(values: Int32Array, from: number, to: number, depthLimit: number): void {
  let low = from;
  let high = to;
  let depth = depthLimit;
  // Recurse into the smaller side, loop on the larger: the stack stays O(log n).
  while (high - low > INSERTION_MAX) {
    if (depth === 0) {
      heapsort(values, low, high);
      return;
    }
    depth--;
    const split = partition(values, low, high);
    if (split - low < high - split) {
      introsort(values, low, split, depth);
      low = split;
    } else {
      introsort(values, split, high, depth);
      high = split;
    }
  }
  insertionSort(values, low, high);
}

/**
 * Hoare partition around the median of the first, middle and last elements. Returns `split`
 * with low < split < high, every element of [low, split) <= every element of [split, high).
 */
function partition(values: Int32Array, low: number, high: number): number {
  const middle = low + ((high - low) >>> 1);
  const a = values[low]!;
  const b = values[middle]!;
  const c = values[high - 1]!;
  const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
  let left = low - 1;
  let right = high;
  for (;;) {
    do left++;
    while (values[left]! < pivot);
    do right--;
    while (values[right]! > pivot);
    if (left >= right) return right + 1;
    const swap = values[left]!;
    values[left] = values[right]!;
    values[right] = swap;
  }
}

function insertionSort(values: Int32Array, low: number, high: number): void {
  for (let index = low + 1; index < high; index++) {
    const value = values[index]!;
    let hole = index;
    while (hole > low && values[hole - 1]! > value) {
      values[hole] = values[hole - 1]!;
      hole--;
    }
    values[hole] = value;
  }
}

function heapsort(values: Int32Array, low: number, high: number): void {
  const length = high - low;
  for (let root = (length >>> 1) - 1; root >= 0; root--) siftDown(values, low, root, length);
  for (let end = length - 1; end > 0; end--) {
    const top = values[low]!;
    values[low] = values[low + end]!;
    values[low + end] = top;
    siftDown(values, low, 0, end);
  }
}

function siftDown(values: Int32Array, base: number, start: number, length: number): void {
  let root = start;
  const value = values[base + root]!;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= length) break;
    if (child + 1 < length && values[base + child + 1]! > values[base + child]!) child++;
    if (values[base + child]! <= value) break;
    values[base + root] = values[base + child]!;
    root = child;
  }
  values[base + root] = value;
}
