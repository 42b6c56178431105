package dev.pcb.fs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdvancePolicyTest
{
    private static final long MS = 1_000_000L;

    @Test
    void neverAdvancesByItself()
    {
        assertFalse(AdvancePolicy.never().due(true, 0, 0, Long.MAX_VALUE));
        assertEquals("never", AdvancePolicy.never().toString());
    }

    @Test
    void idleNeedsANewerVersionNothingOpenAndTheQuietTime()
    {
        final AdvancePolicy idle = AdvancePolicy.idle(300 * MS);
        assertTrue(idle.due(true, 0, 0, 300 * MS));
        assertFalse(idle.due(false, 0, 0, 300 * MS), "nothing newer");
        assertFalse(idle.due(true, 1, 0, 300 * MS), "a file open");
        assertFalse(idle.due(true, 0, 1, 300 * MS), "a directory open");
        assertFalse(idle.due(true, 0, 0, 299 * MS), "opened or closed just now");
        assertEquals(AdvancePolicy.TICK_NANOS, idle.tickNanos());
        assertEquals("idle:300ms", idle.toString());
    }

    @Test
    void intervalAdvancesAtEachLookWhateverIsOpen()
    {
        final AdvancePolicy interval = AdvancePolicy.interval(30_000 * MS);
        assertTrue(interval.due(true, 5, 2, 0));
        assertFalse(interval.due(false, 0, 0, Long.MAX_VALUE));
        assertEquals(30_000 * MS, interval.tickNanos());
        assertThrows(IllegalArgumentException.class, () -> AdvancePolicy.interval(0));
    }
}
