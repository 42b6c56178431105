package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.testsupport.qemu.IvshmemRegion;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one renderer of region files into QEMU arguments, as {@code pcb broker} and {@code pcb qemu-args} print them.
 * QEMU itself runs them in {@code QemuEndToEndTest}.
 */
final class QemuArgsCommandTest
{
    @Test
    void rendersDataRegionsReadOnlyAndTheControlRegionWritableWithValidIds()
    {
        final String line = QemuArgsCommand.render(List.of(
            new Broker.RegionFile(Path.of("/dev/shm/pcb/share-data.data"), 256L << 20, true),
            new Broker.RegionFile(Path.of("/dev/shm/pcb/guest-vm1.ctl"), 4L << 20, false)));

        assertEquals(
            "-object memory-backend-file,id=pcb-share-data,mem-path=/dev/shm/pcb/share-data.data,size=256M," +
            "share=on,readonly=on -device ivshmem-plain,id=pcb-share-data-dev,memdev=pcb-share-data " +
            "-object memory-backend-file,id=pcb-guest-vm1,mem-path=/dev/shm/pcb/guest-vm1.ctl,size=4M,share=on " +
            "-device ivshmem-plain,id=pcb-guest-vm1-dev,memdev=pcb-guest-vm1",
            line);
    }

    @Test
    void escapesCommasForQemuAndQuotesForTheShell()
    {
        final String line = QemuArgsCommand.render(List.of(
            new Broker.RegionFile(Path.of("/dev/shm/a,b c/share-x.data"), 1L << 20, true)));

        assertTrue(line.contains("'memory-backend-file,id=pcb-share-x,mem-path=/dev/shm/a,,b c/share-x.data,size=1M," +
            "share=on,readonly=on'"), line);
    }

    @Test
    void idsAreUniqueAndStartWithALetter()
    {
        final List<IvshmemRegion> regions = QemuArgsCommand.regions(List.of(
            new Broker.RegionFile(Path.of("/a/share-x.data"), 4096, true),
            new Broker.RegionFile(Path.of("/b/share-x.data"), 4096, true),
            new Broker.RegionFile(Path.of("/c/guest-1.2.ctl"), 4096, false)));

        assertEquals("pcb-share-x", regions.get(0).id());
        assertEquals("pcb-share-x-2", regions.get(1).id());
        assertEquals("pcb-guest-1.2", regions.get(2).id());
        assertTrue(regions.get(0).readOnly());
        assertTrue(!regions.get(2).readOnly());
    }
}
