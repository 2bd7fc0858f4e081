/** The browser's answers to platform.ts (the browser bundles substitute this module). */

const nav = (globalThis as { navigator?: { hardwareConcurrency?: number; deviceMemory?: number } }).navigator;

/** Cores the page reports. */
export const cores = (): number => nav?.hardwareConcurrency || 1;

/** Chrome's navigator.deviceMemory (GiB, rounded down, at most 8) where offered, else 4 GiB: the cache takes a quarter. */
export const memoryBytes = (): number => (nav?.deviceMemory || 4) * 2 ** 30;

/** Web Workers from a Blob URL (threads.browser.ts). */
export const canStartWorkers = typeof (globalThis as { Worker?: unknown }).Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function';

/**
 * A macrotask through a MessageChannel: setTimeout(0) is clamped to 4 ms once nested, which a
 * pass that yields after every chunk would pay thousands of times.
 */
const channel = typeof MessageChannel === 'function' ? new MessageChannel() : undefined;
const waiting: (() => void)[] = [];
// onmessage (not addEventListener): setting it starts the port in browsers.
if (channel) (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => waiting.shift()?.();

export const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    if (!channel) return void setTimeout(resolve, 0);
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
