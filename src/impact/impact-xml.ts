import { setImmediate as nextTurn } from 'node:timers/promises';
import { SaxesParser } from 'saxes';
import type { RawParameter } from '../core/raw-parameter';
import { MAX_FIELDS_PER_ROW, MAX_ROW_CHARACTERS } from '../batch/csv-records';
import { asciiLower, ITEM_COLUMNS } from './impact-columns';

/*
 * The XML form of an impact.com file, read as a stream: any root element, one child element per row, the
 * row's children named after the columns; an item line is an <Item> child of the row holding <Sku>,
 * <Quantity>, <Amount>, <Category>, <Name>, flattened to Sku1, Quantity1… in order.
 *
 * saxes is a strict, non-validating parser: it never fetches anything, and it does not expand entities
 * a DTD declares (an undeclared entity is a well-formedness error). On top of that every DOCTYPE is
 * refused outright — an impact file needs none, and refusing it closes the door on entity expansion
 * ("billion laughs") and external entities (SYSTEM "file:///etc/passwd") alike, whatever a later
 * version of the parser might do with them. Only the five predefined entities and numeric character
 * references are read.
 */

/** A row element: its number (1 = the root's first child element) and its columns as written. */
export interface XmlRow {
  rowNumber: number;
  /** Column names as the file spells them; item children as `Sku1`…, or `Item/Name` for an unknown child. */
  parameters: RawParameter[];
}

/** Why an XML file is refused as a whole; the message is shown to the brand as is. */
export class XmlRefusal extends Error {}

const ITEM_ELEMENT = 'item';
const ITEM_CHILDREN = new Map<string, string>(ITEM_COLUMNS.map((column) => [column.toLowerCase(), column]));

/**
 * The rows of an XML file given in text slices, handed over a slice of the text at a time (the rows each
 * slice completes), with a turn of the event loop between slices. Nothing but the row being read is held,
 * and no row may be longer than MAX_ROW_CHARACTERS (nor the text between two rows), so a 100,000-row file
 * costs no more memory than one row. Throws {@link XmlRefusal} on a DOCTYPE, an entity, a file that is
 * not well-formed or not laid out as rows.
 */
export async function* xmlRows(text: Iterable<string>): AsyncGenerator<XmlRow[]> {
  const reader = new RowReader();
  let first = true;
  for (let slice of text) {
    if (first && slice.startsWith('\ufeff')) slice = slice.slice(1);
    first = false;
    reader.write(slice);
    const rows = reader.take();
    if (rows.length > 0) yield rows;
    await nextTurn();
  }
  reader.close();
  const rows = reader.take();
  if (rows.length > 0) yield rows;
}

/** A streaming reader of row elements over a saxes parser. */
class RowReader {
  private readonly parser = new SaxesParser({ position: true });
  private rows: XmlRow[] = [];
  /** Open elements: 1 = the root, 2 = a row, 3 = a column or an item, 4 = an item's column. */
  private depth = 0;
  private rowNumber = 0;
  private row: RawParameter[] | null = null;
  private item = 0;
  private inItem = false;
  private column: { name: string; text: string } | null = null;
  /** Where the row being read (or the stretch of text between rows) began, to bound what the parser buffers. */
  private mark = 0;

  constructor() {
    const parser = this.parser;
    parser.on('doctype', () => {
      throw new XmlRefusal('the XML file has a DOCTYPE: DTDs and the entities they declare are refused');
    });
    parser.on('opentag', (tag) => this.openElement(tag.name));
    parser.on('closetag', () => this.closeElement());
    parser.on('text', (text) => this.text(text));
    parser.on('cdata', (text) => this.text(text));
  }

  write(slice: string): void {
    this.guard(() => this.parser.write(slice));
    if (this.parser.position - this.mark > MAX_ROW_CHARACTERS) {
      const limit = MAX_ROW_CHARACTERS.toLocaleString('en-US');
      throw new XmlRefusal(
        this.row === null
          ? `the XML file has more than ${limit} characters outside any row element`
          : `row ${this.rowNumber} is longer than ${limit} characters`,
      );
    }
  }

  close(): void {
    this.guard(() => this.parser.close());
  }

  /** The rows completed since the last call. */
  take(): XmlRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof XmlRefusal) throw error;
      throw new XmlRefusal(describeParserError(error));
    }
  }

  private openElement(name: string): void {
    this.depth++;
    const where = () => `row ${this.rowNumber}`;
    if (this.depth === 2) {
      this.rowNumber++;
      this.row = [];
      this.item = 0;
      this.mark = this.parser.position;
    } else if (this.depth === 3) {
      if (asciiLower(name) === ITEM_ELEMENT) {
        this.inItem = true;
        this.item++;
      } else {
        this.column = { name, text: '' };
      }
    } else if (this.depth === 4 && this.inItem) {
      const column = ITEM_CHILDREN.get(asciiLower(name.trim()));
      this.column = { name: column === undefined ? `Item/${name}` : `${column}${this.item}`, text: '' };
    } else if (this.depth > 2) {
      throw new XmlRefusal(`${where()}: <${this.column?.name ?? name}> holds an element; a column holds text only`);
    }
  }

  private closeElement(): void {
    if (this.depth === 2 && this.row !== null) {
      this.rows.push({ rowNumber: this.rowNumber, parameters: this.row });
      this.row = null;
      this.mark = this.parser.position;
    } else if (this.column !== null && (this.depth === 3 || this.depth === 4)) {
      this.row?.push({ name: this.column.name, value: this.column.text });
      if ((this.row?.length ?? 0) > MAX_FIELDS_PER_ROW)
        throw new XmlRefusal(
          `row ${this.rowNumber} has more than ${MAX_FIELDS_PER_ROW.toLocaleString('en-US')} fields`,
        );
      this.column = null;
    } else if (this.depth === 3) {
      this.inItem = false;
    }
    this.depth--;
  }

  private text(text: string): void {
    if (this.column !== null) {
      this.column.text += text;
      return;
    }
    if (text.trim() === '') return;
    const where = this.depth <= 1 ? 'outside any row element' : `in row ${this.rowNumber} outside its columns`;
    throw new XmlRefusal(`the XML file has text ${where}: each row element holds one element per column`);
  }
}

/** saxes reports "line:column: message"; an undefined entity is the one brands may meet, so it is named. */
function describeParserError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = /^(\d+):(\d+): /.exec(message);
  const place = where === null ? '' : ` (line ${where[1]}, column ${where[2]})`;
  const detail = where === null ? message : message.slice(where[0].length);
  if (/undefined entity/.test(detail)) {
    return (
      `the XML file refers to an entity${place}: only &amp; &lt; &gt; &quot; &apos; and numeric character ` +
      'references are allowed'
    );
  }
  return `the XML file is not well-formed${place}: ${detail}`;
}
