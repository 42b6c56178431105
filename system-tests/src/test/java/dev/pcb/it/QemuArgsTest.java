package dev.pcb.it;

import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb qemu-args} attaches exactly the shares the broker gave the guest, and matches what the broker printed.
 */
@Timeout(60)
class QemuArgsTest
{
    @TempDir
    Path dir;

    private BrokerProcess broker;

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void aGuestGetsOnlyItsShares() throws Exception
    {
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        broker = BrokerProcess.start(BrokerProcess.newRunDir("qemu-args"), "--share", "data=" + dir.resolve("a"),
            "--share", "other=" + dir.resolve("b"), "--guest", "vm1:data", "--guest", "vm2",
            "--region-size", "4m", "--window-size", "64k");

        final String vm1 = qemuArgs("vm1");
        assertTrue(vm1.contains("share-data.data") && vm1.contains("guest-vm1.ctl"), vm1);
        assertFalse(vm1.contains("share-other.data"), "vm1 was not given share other:\n" + vm1);
        assertTrue(broker.output().contains(vm1.trim()), "differs from what the broker printed:\n" + broker.output());

        final String vm2 = qemuArgs("vm2");
        assertTrue(vm2.contains("share-data.data") && vm2.contains("share-other.data"), vm2);
    }

    private String qemuArgs(final String guest) throws Exception
    {
        final Process process = new ProcessBuilder(JavaProcess.pcbCommand("qemu-args", "--run-dir",
            broker.runDir().toString(), "--guest", guest)).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        final String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), err);
        return out;
    }
}
