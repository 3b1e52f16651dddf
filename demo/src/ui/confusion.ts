// The 10×10 confusion matrix as an HTML table (readable by screen readers), cells shaded
// by their share of the row; built once at full size so updates never shift the layout.

/** Renders confusion counts (row = true digit, column = predicted) into a table. */
export class ConfusionMatrix {
  private readonly cells: HTMLTableCellElement[] = [];

  constructor(private readonly table: HTMLTableElement) {
    table.replaceChildren();
    const caption = table.createCaption();
    caption.textContent = 'Rows: true digit · columns: predicted digit';
    const head = table.createTHead().insertRow();
    head.appendChild(header('', 'col'));
    for (let c = 0; c < 10; c++) head.appendChild(header(String(c), 'col'));
    const body = table.createTBody();
    for (let r = 0; r < 10; r++) {
      const row = body.insertRow();
      row.appendChild(header(String(r), 'row'));
      for (let c = 0; c < 10; c++) {
        const cell = row.insertCell();
        cell.className = r === c ? 'diag' : '';
        this.cells.push(cell);
      }
    }
  }

  /** Shows `counts` (100 numbers, row-major). */
  update(counts: number[]): void {
    for (let r = 0; r < 10; r++) {
      const rowTotal = counts.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0) || 1;
      for (let c = 0; c < 10; c++) {
        const n = counts[r * 10 + c];
        const cell = this.cells[r * 10 + c];
        const share = n / rowTotal;
        cell.textContent = n === 0 ? '' : String(n);
        // Correct predictions shade in the accent colour, mistakes in the error colour.
        cell.style.setProperty('--share', share.toFixed(3));
        cell.classList.toggle('strong', share > 0.55);
        cell.title = `true ${r}, predicted ${c}: ${n}`;
      }
    }
    this.table.dataset.filled = 'true';
  }

  clear(): void {
    for (const cell of this.cells) {
      cell.textContent = '';
      cell.style.removeProperty('--share');
      cell.classList.remove('strong');
    }
    delete this.table.dataset.filled;
  }
}

function header(text: string, scope: 'row' | 'col'): HTMLTableCellElement {
  const th = document.createElement('th');
  th.scope = scope;
  th.textContent = text;
  return th;
}
