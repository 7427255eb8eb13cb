/**
 * The one hover tooltip of a view: `[data-testid=tooltip]`, positioned next to the hovered element, text only.
 */
import { el } from './ui';

export class Tooltip {
  readonly element: HTMLDivElement;
  private token = 0;

  constructor() {
    this.element = el('div', { 'data-testid': 'tooltip', class: 'tooltip', role: 'tooltip', hidden: true });
    document.body.append(this.element);
  }

  /** Show text near the target (or near a point). */
  show(text: string, target: HTMLElement, point?: { x: number; y: number }): void {
    this.token++;
    this.element.textContent = text;
    this.element.hidden = false;
    const r = target.getBoundingClientRect();
    const x = point ? point.x + 12 : r.left;
    const y = point ? point.y + 16 : r.bottom + 4;
    const maxX = window.innerWidth - this.element.offsetWidth - 8;
    this.element.style.left = `${Math.max(4, Math.min(x, maxX))}px`;
    this.element.style.top = `${Math.max(4, y + this.element.offsetHeight > window.innerHeight ? r.top - this.element.offsetHeight - 4 : y)}px`;
  }

  /** Show text that arrives later (host round trip); a newer hover wins. */
  showAsync(text: Promise<string>, target: HTMLElement, point?: { x: number; y: number }): void {
    const mine = ++this.token;
    text.then(
      (t) => {
        if (mine === this.token) {
          this.show(t, target, point);
          this.token = mine;
        }
      },
      () => {},
    );
  }

  hide(): void {
    this.token++;
    this.element.hidden = true;
  }
}
