/**
 * Reading a weightless layer's settings from its Keras config, accepting the spellings of every Keras version
 * (e.g. Keras 1 `pool_length`/`stride`/`border_mode` beside Keras 2 `pool_size`/`strides`/`padding`).
 */
import type { LayerConfig } from '../../types';

function firstPresent(layer: LayerConfig, names: string[]): unknown {
  for (const n of names) {
    const v = layer.config[n];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** An integer setting; a one-element list (Keras 2 stores pool_size as [2]) counts as its element. */
export function intSetting(layer: LayerConfig, names: string[], fallback: number): number;
export function intSetting(layer: LayerConfig, names: string[], fallback: null): number | null;
export function intSetting(layer: LayerConfig, names: string[], fallback: number | null): number | null {
  let v = firstPresent(layer, names);
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not a number`);
  }
  return v;
}

export function numberSetting(layer: LayerConfig, names: string[], fallback: number): number;
export function numberSetting(layer: LayerConfig, names: string[], fallback: null): number | null;
export function numberSetting(layer: LayerConfig, names: string[], fallback: number | null): number | null {
  const v = firstPresent(layer, names);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number') throw new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not a number`);
  return v;
}

export function stringSetting(layer: LayerConfig, names: string[], fallback: string): string {
  const v = firstPresent(layer, names);
  return typeof v === 'string' ? v : fallback;
}

export function boolSetting(layer: LayerConfig, names: string[], fallback: boolean): boolean {
  const v = firstPresent(layer, names);
  return typeof v === 'boolean' ? v : fallback;
}

export function intListSetting(layer: LayerConfig, names: string[]): number[] | null {
  const v = firstPresent(layer, names);
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not a list of integers`);
  }
  return list as number[];
}

/** 'channels_last' unless the layer says channels_first (Keras 1 dim_ordering 'th' = channels_first). */
export function channelsFirst(layer: LayerConfig): boolean {
  const f = firstPresent(layer, ['data_format', 'dim_ordering']);
  return f === 'channels_first' || f === 'th';
}
