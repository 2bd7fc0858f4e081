// Raw memory for the JS glue: TLSF blocks (runtime "minimal"), never seen by the GC.
// alloc returns a 16-byte-aligned byte pointer (the glue aligns further to 64 itself);
// free releases it. The glue keeps one persistent scratch block and regrows it only when a
// call needs more, so memory stays bounded across calls.

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}
