// A table of the result JSON as an HTML table: spans kept, header rows (headerRows) in <thead> as <th> with a scope.
// Results before schema 3 have no headerRows: their first row stands in as the header, as the viewer always showed it.

function cellElement(cell, header) {
  const node = document.createElement(header ? 'th' : 'td');
  node.textContent = cell.text;
  if (header) node.setAttribute('scope', cell.columnSpan > 1 ? 'colgroup' : 'col');
  if (cell.rowSpan > 1) node.setAttribute('rowspan', cell.rowSpan);
  if (cell.columnSpan > 1) node.setAttribute('colspan', cell.columnSpan);
  return node;
}

export function renderTable(table) {
  const headerRows = Math.min(table.headerRows ?? 1, table.rowCount);
  const rows = Array.from({ length: table.rowCount }, () => document.createElement('tr'));
  for (const cell of [...table.cells].sort((a, b) => a.row - b.row || a.column - b.column)) {
    rows[cell.row]?.append(cellElement(cell, cell.row < headerRows));
  }

  const grid = document.createElement('table');
  if (headerRows > 0) {
    const head = document.createElement('thead');
    head.append(...rows.slice(0, headerRows));
    grid.append(head);
  }
  const body = document.createElement('tbody');
  body.append(...rows.slice(headerRows));
  grid.append(body);

  const figure = document.createElement('figure');
  figure.className = 'table';
  figure.dataset.table = table.id;
  const caption = document.createElement('figcaption');
  caption.textContent = `${table.id} · page ${table.pageNumber} · ${table.rowCount} × ${table.columnCount} · found by ${table.detection}`;
  figure.append(grid, caption);
  return figure;
}
