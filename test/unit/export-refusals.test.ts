/** Which SKUs of an export batch OTTO refused (stock 207, failed price variations), in OTTO's words. */
import {
  attributeError,
  describeRefusals,
  entryRefusals,
  priceRefusals,
  stockRefusals,
} from '../../activities/export-refusals';
import { parseApiErrors } from '../../activities/otto-http';

const batch = ['SKU-1', 'SKU-10', 'A', 'B'];

describe('attributeError', () => {
  it('finds the SKU named in the detail, preferring the longest match', () => {
    expect(attributeError({ detail: 'SKU "SKU-10" is unknown' }, batch)).toBe('SKU-10');
    expect(attributeError({ detail: 'SKU "SKU-1" is unknown' }, batch)).toBe('SKU-1');
    expect(attributeError({ path: '/SKU-10/quantity' }, batch)).toBe('SKU-10');
  });

  it('falls back to the first array index in the path', () => {
    expect(attributeError({ path: '/2/quantity', title: 'invalid' }, ['x1', 'x2', 'x3'])).toBe('x3');
    expect(attributeError({ path: '[1].sku' }, ['x1', 'x2'])).toBe('x2');
    expect(attributeError({ path: '$[0].quantity' }, ['x1', 'x2'])).toBe('x1');
  });

  it('gives up when nothing names an entry', () => {
    expect(attributeError({ title: 'Not Found', detail: 'unknown' }, ['x1'])).toBeUndefined();
    expect(attributeError({ path: '/7/quantity' }, ['x1'])).toBeUndefined();
  });

  it('does not match a SKU inside a longer word', () => {
    expect(attributeError({ detail: 'BA is unknown' }, ['A', 'B'])).toBeUndefined();
  });
});

describe('stockRefusals', () => {
  it('takes the SKUs OTTO lists in results, refuses the ones its errors name', () => {
    const refused = stockRefusals(
      ['S1', 'S2', 'S3'],
      ['S1', 'S3'],
      parseApiErrors({
        errors: [{ code: 404, title: 'Not Found', detail: 'SKU "S2" is unknown', logref: 'x' }],
      }),
    );
    expect([...refused.keys()]).toEqual(['S2']);
    expect(refused.get('S2')).toBe('Not Found: SKU "S2" is unknown');
  });

  it('counts an entry missing from results as refused, with the errors it could not attribute', () => {
    const refused = stockRefusals(['S1', 'S2'], ['S1'], [{ title: 'Not Found', detail: 'unknown SKU' }]);
    expect(Object.fromEntries(refused)).toEqual({ S2: 'Not Found: unknown SKU' });
  });

  it('refuses the whole batch when nothing can be told apart (sending again is harmless)', () => {
    const refused = stockRefusals(['S1', 'S2'], undefined, [{ title: 'Conflict' }]);
    expect([...refused.keys()]).toEqual(['S1', 'S2']);
  });

  it('refuses the whole batch on a 207 with neither results nor errors (a 207 says something failed)', () => {
    const refused = stockRefusals(['S1', 'S2'], undefined, []);
    expect([...refused.keys()]).toEqual(['S1', 'S2']);
    expect(refused.get('S1')).toMatch(/207/);
  });

  it('refuses nothing on a 207 without errors that lists everything', () => {
    expect(stockRefusals(['S1'], ['S1'], []).size).toBe(0);
  });
});

describe('entryRefusals', () => {
  it('splits an answer’s errors into the SKUs they name and the ones naming none', () => {
    const { named, unnamed } = entryRefusals(
      ['S1', 'S2', 'S3'],
      parseApiErrors({
        errors: [
          { code: 422, title: 'Unprocessable', detail: 'quantity must be >= 0', path: '/2/quantity' },
          { title: 'Unknown', detail: 'S1 is unknown' },
          { title: 'Too many' },
        ],
      }),
    );
    expect(Object.fromEntries(named)).toEqual({
      S3: 'Unprocessable: quantity must be >= 0 (path /2/quantity)',
      S1: 'Unknown: S1 is unknown',
    });
    expect(unnamed).toEqual([expect.objectContaining({ title: 'Too many' })]);
  });
});

describe('priceRefusals', () => {
  it('reads the failed variations of the batch with their errors', () => {
    const refused = priceRefusals(
      ['P1', 'P2', 'P3'],
      [
        {
          sku: 'P2',
          errors: [
            {
              code: 'INVALID_CURRENCY',
              title: 'currency must be "EUR"',
              jsonPath: '$.standardPrice.currency',
            },
          ],
        },
        { sku: 'OTHER', errors: [{ title: 'not ours' }] },
        { sku: null, errors: [] },
      ],
    );
    expect(Object.fromEntries(refused)).toEqual({
      P2: 'INVALID_CURRENCY currency must be "EUR" (path $.standardPrice.currency)',
    });
  });
});

describe('describeRefusals', () => {
  it('names the count and a few SKUs', () => {
    expect(describeRefusals(0, [])).toBe('');
    expect(describeRefusals(5, [{ sku: 'A', error: 'unknown' }])).toBe(
      '5 SKU(s) refused by OTTO, sent again next run: A (unknown), … 4 more',
    );
  });
});
