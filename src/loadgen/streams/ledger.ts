/** What one subscription's sequence numbers say about delivery. */
export interface LedgerCounts {
  /** Replies received in order, each once. */
  delivered: number;
  /** Sequence numbers skipped: replies the subscription never received. */
  lost: number;
  /** Replies received again (a sequence number below the next one expected). */
  duplicated: number;
}

/**
 * The delivery ledger of one subscription across its resumes: the next
 * sequence number expected is where a resume starts, and every reply is
 * checked against it. A gap counts its missing numbers as lost; a number
 * already passed counts as duplicated and moves nothing.
 */
export class SequenceLedger {
  private expected: number;
  private counts: LedgerCounts = { delivered: 0, lost: 0, duplicated: 0 };

  constructor(firstSeq = 0) {
    this.expected = firstSeq;
  }

  /** The from_seq of the next (re)subscription: one past the last sequence number received. */
  get next(): number {
    return this.expected;
  }

  /** Takes one reply's sequence number; says how it counted. */
  receive(sequence: number): "delivered" | "duplicated" | "gap" {
    if (sequence < this.expected) {
      this.counts.duplicated += 1;
      return "duplicated";
    }
    const gap = sequence - this.expected;
    this.counts.lost += gap;
    this.counts.delivered += 1;
    this.expected = sequence + 1;
    return gap > 0 ? "gap" : "delivered";
  }

  totals(): LedgerCounts {
    return { ...this.counts };
  }
}

/** Sums ledgers' counts. */
export function sumCounts(all: readonly LedgerCounts[]): LedgerCounts {
  const sum: LedgerCounts = { delivered: 0, lost: 0, duplicated: 0 };
  for (const c of all) {
    sum.delivered += c.delivered;
    sum.lost += c.lost;
    sum.duplicated += c.duplicated;
  }
  return sum;
}
