package dev.pcb.fs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code pcb mount} asks fusermount3 for, and how it finds it; the mounting itself is tested end to end
 * ({@code MountUnprivilegedTest}).
 */
class FuseMountTest
{
    @TempDir
    Path dir;

    @Test
    void optionsAreReadOnlyWithKernelPermissionChecksAndAutoUnmount()
    {
        assertEquals("fsname=pcb:data/sub,subtype=pcb,ro,nosuid,nodev,default_permissions,max_read=1048576," +
            "auto_unmount", FuseMount.fusermountOptions("pcb:data/sub", false));
        assertTrue(FuseMount.fusermountOptions("pcb:data", true).endsWith(",auto_unmount,allow_other"));
    }

    @Test
    void commasAndBackslashesInTheSourceAreEscapedAsFusermount3UnescapesThem()
    {
        assertTrue(FuseMount.fusermountOptions("pcb:a,b\\c", false).startsWith("fsname=pcb:a\\,b\\\\c,subtype="));
    }

    @Test
    void allowOtherOnlyWithUserAllowOtherOnALineOfItsOwn() throws IOException
    {
        final Path conf = dir.resolve("fuse.conf");
        assertFalse(FuseMount.userAllowOther(conf), "no file");
        Files.writeString(conf, "# user_allow_other\n#user_allow_other\nmount_max = 1000\n");
        assertFalse(FuseMount.userAllowOther(conf));
        Files.writeString(conf, "mount_max = 1000\n  user_allow_other \n");
        assertTrue(FuseMount.userAllowOther(conf));
    }

    @Test
    void fusermount3IsTheFirstExecutableOneOnPath() throws IOException
    {
        final Path empty = Files.createDirectory(dir.resolve("empty"));
        final Path notExecutable = Files.createDirectory(dir.resolve("plain"));
        Files.writeString(notExecutable.resolve(FuseMount.FUSERMOUNT), "");
        final Path bin = Files.createDirectory(dir.resolve("bin"));
        final Path program = Files.writeString(bin.resolve(FuseMount.FUSERMOUNT), "#!/bin/sh\n");
        assertTrue(program.toFile().setExecutable(true));

        assertEquals(program, FuseMount.fusermount(empty + "::" + notExecutable + ":" + bin));
        final IOException none = assertThrows(IOException.class, () -> FuseMount.fusermount(empty.toString()));
        assertEquals("no fusermount3 on PATH: an ordinary user mounts through it (Debian package fuse3), " +
            "or run pcb mount as root", none.getMessage());
        assertThrows(IOException.class, () -> FuseMount.fusermount(null));
    }

    @Test
    void fusermount3sMessagesBecomeOneLine()
    {
        assertEquals("user has no write access to mountpoint /m; second",
            FuseMount.oneLine("fusermount3: user has no write access to mountpoint /m\n\n  second\n"));
        assertEquals("", FuseMount.oneLine(""));
    }
}
