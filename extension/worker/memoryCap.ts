/**
 * A cap on the WebAssembly memory of the model worker. The worker's JS heap is capped by the platform (Node's
 * resourceLimits), but WebAssembly memory (h5wasm's heap) lives outside it and could grow to gigabytes on a damaged
 * file. Wrapping `WebAssembly.Memory.prototype.grow` makes a growth past the cap throw a RangeError, which is what
 * the engine does when the system runs out: emscripten's allocator catches it and malloc fails, so the library
 * reports an error instead of taking the process's memory. Platform-neutral (WebAssembly exists in both hosts).
 */
const PAGE = 64 * 1024;

let capBytes = Infinity;
let installed = false;

export function capWasmMemory(limitMB: number): void {
  capBytes = limitMB > 0 ? limitMB * 1024 * 1024 : Infinity;
  if (installed) return;
  installed = true;
  const proto = WebAssembly.Memory.prototype;
  const grow = proto.grow;
  proto.grow = function (this: WebAssembly.Memory, delta: number): number {
    if (this.buffer.byteLength + delta * PAGE > capBytes) {
      throw new RangeError(`WebAssembly memory would pass the worker's cap of ${Math.round(capBytes / 1024 / 1024)} MB`);
    }
    return grow.call(this, delta);
  };
}
