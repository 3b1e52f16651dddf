// Ten horizontal bars, one per digit, showing the model's probabilities for the drawing;
// built as a <meter>-like list so screen readers read "7: 92 %".

/** The probability bars for digits 0..9. */
export class ProbabilityBars {
  private readonly bars: HTMLElement[] = [];
  private readonly values: HTMLElement[] = [];
  private readonly rows: HTMLElement[] = [];

  constructor(private readonly root: HTMLElement) {
    root.replaceChildren();
    for (let d = 0; d < 10; d++) {
      const row = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'digit';
      label.textContent = String(d);
      const track = document.createElement('span');
      track.className = 'track';
      const bar = document.createElement('span');
      bar.className = 'bar';
      track.appendChild(bar);
      const value = document.createElement('span');
      value.className = 'value';
      row.append(label, track, value);
      root.appendChild(row);
      this.rows.push(row);
      this.bars.push(bar);
      this.values.push(value);
    }
    this.clear();
  }

  /** Shows `probabilities` (10 numbers summing to 1) and highlights the largest. */
  update(probabilities: number[]): void {
    const best = probabilities.indexOf(Math.max(...probabilities));
    probabilities.forEach((p, d) => {
      this.bars[d].style.transform = `scaleX(${Math.max(0, Math.min(1, p))})`;
      this.values[d].textContent = `${(100 * p).toFixed(p < 0.995 ? 1 : 0)} %`;
      this.rows[d].classList.toggle('best', d === best);
      this.rows[d].setAttribute('aria-label', `${d}: ${(100 * p).toFixed(1)} percent`);
    });
    this.root.dataset.best = String(best);
    this.root.dataset.values = probabilities.map((p) => p.toFixed(6)).join(' ');
  }

  clear(): void {
    for (let d = 0; d < 10; d++) {
      this.bars[d].style.transform = 'scaleX(0)';
      this.values[d].textContent = '';
      this.rows[d].classList.remove('best');
      this.rows[d].setAttribute('aria-label', `${d}: no prediction`);
    }
    delete this.root.dataset.best;
    delete this.root.dataset.values;
  }
}
