import { parseTransferIntervals, transferIntervalsEnvSchema } from '../../common/transfer-intervals';

describe('TRANSFER_INTERVALS', () => {
  it('reads the defaults of docs/design.md §5', () => {
    expect(transferIntervalsEnvSchema.parse(undefined)).toEqual({
      ordersImport: 900_000,
      stockExport: 900_000,
      pricesExport: 86_400_000,
      returnsImport: 3_600_000,
      shippingProfilesSync: 3_600_000,
    });
  });

  it('shortens kinds, turns kinds off, leaves the rest out', () => {
    expect(parseTransferIntervals('ordersImport=2s, returnsImport=off')).toEqual({
      intervals: { ordersImport: 2_000, returnsImport: null },
      errors: [],
    });
  });

  it('names every bad entry', () => {
    const { errors } = parseTransferIntervals('orders=15m,stockExport=soon,pricesExport');
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain('"orders=15m"');
    expect(errors[1]).toContain('soon is not a duration');
    expect(transferIntervalsEnvSchema.safeParse('stockExport=soon').success).toBe(false);
  });
});
