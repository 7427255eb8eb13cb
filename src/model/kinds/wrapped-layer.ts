/** The layer inside a wrapper (TimeDistributed, Bidirectional) and the kind that runs it. */
import type { LayerConfig, LayerKind } from '../types';
import { KerasLensError } from '../types';
import { kindFor } from './index';

/** The wrapped layer: `layer.inner` when the reader filled it, else built from config.layer {class_name, config}. */
export function wrappedLayer(layer: LayerConfig): LayerConfig {
  if (layer.inner) return layer.inner;
  const spec = layer.config.layer as { class_name?: string; config?: Record<string, unknown> } | undefined;
  if (!spec || typeof spec.class_name !== 'string') {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) does not say which layer it wraps`);
  }
  const config = spec.config ?? {};
  return {
    name: typeof config.name === 'string' ? config.name : `${layer.name}_inner`,
    className: spec.class_name,
    config,
    inbound: [],
  };
}

export function kindOfWrapped(layer: LayerConfig, inner: LayerConfig): LayerKind {
  const kind = kindFor(inner.className);
  if (!kind) {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) wraps a ${inner.className}, which Keras Lens does not know`);
  }
  return kind;
}
