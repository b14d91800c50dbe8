/** The floor workflow's activities: they do nothing but count themselves. */
export interface FloorCounters {
  mints: number;
  transfers: number;
  ticks: number;
}

export function createFloorActivities(counters: FloorCounters) {
  return {
    floorMint(): Promise<void> {
      counters.mints++;
      return Promise.resolve();
    },
    floorTransfer(): Promise<void> {
      counters.transfers++;
      return Promise.resolve();
    },
    floorTick(): Promise<void> {
      counters.ticks++;
      return Promise.resolve();
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
