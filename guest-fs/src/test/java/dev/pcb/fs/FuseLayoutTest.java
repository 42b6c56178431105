package dev.pcb.fs;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The flyweights' offsets against the kernel's header: a C program compiled against {@code linux/fuse.h} prints
 * every {@code offsetof} and {@code sizeof} the Java side uses.
 */
class FuseLayoutTest
{
    @TempDir
    Path dir;

    @Test
    void offsetsMatchLinuxFuseH() throws Exception
    {
        final String[][] fields = {
            {"fuse_in_header", "len", "" + FuseInHeader.LEN_OFFSET},
            {"fuse_in_header", "opcode", "" + FuseInHeader.OPCODE_OFFSET},
            {"fuse_in_header", "unique", "" + FuseInHeader.UNIQUE_OFFSET},
            {"fuse_in_header", "nodeid", "" + FuseInHeader.NODEID_OFFSET},
            {"fuse_in_header", "uid", "" + FuseInHeader.UID_OFFSET},
            {"fuse_in_header", "gid", "" + FuseInHeader.GID_OFFSET},
            {"fuse_in_header", "pid", "" + FuseInHeader.PID_OFFSET},
            {"fuse_out_header", "error", "" + FuseOutHeader.ERROR_OFFSET},
            {"fuse_out_header", "unique", "" + FuseOutHeader.UNIQUE_OFFSET},
            {"fuse_init_in", "max_readahead", "" + FuseInit.MAX_READAHEAD_OFFSET},
            {"fuse_init_in", "flags", "" + FuseInit.FLAGS_OFFSET},
            {"fuse_init_in", "flags2", "" + FuseInit.IN_FLAGS2_OFFSET},
            {"fuse_init_out", "max_background", "" + FuseInit.MAX_BACKGROUND_OFFSET},
            {"fuse_init_out", "congestion_threshold", "" + FuseInit.CONGESTION_THRESHOLD_OFFSET},
            {"fuse_init_out", "max_write", "" + FuseInit.MAX_WRITE_OFFSET},
            {"fuse_init_out", "time_gran", "" + FuseInit.TIME_GRAN_OFFSET},
            {"fuse_init_out", "max_pages", "" + FuseInit.MAX_PAGES_OFFSET},
            {"fuse_init_out", "flags2", "" + FuseInit.OUT_FLAGS2_OFFSET},
            {"fuse_attr", "size", "" + FuseAttr.SIZE_OFFSET},
            {"fuse_attr", "blocks", "" + FuseAttr.BLOCKS_OFFSET},
            {"fuse_attr", "mtime", "" + FuseAttr.MTIME_OFFSET},
            {"fuse_attr", "ctimensec", "" + FuseAttr.CTIMENSEC_OFFSET},
            {"fuse_attr", "mode", "" + FuseAttr.MODE_OFFSET},
            {"fuse_attr", "nlink", "" + FuseAttr.NLINK_OFFSET},
            {"fuse_attr", "blksize", "" + FuseAttr.BLKSIZE_OFFSET},
            {"fuse_attr", "flags", "" + FuseAttr.FLAGS_OFFSET},
            {"fuse_entry_out", "entry_valid", "" + FuseAttr.ENTRY_VALID_OFFSET},
            {"fuse_entry_out", "attr_valid_nsec", "" + FuseAttr.ENTRY_ATTR_VALID_NSEC_OFFSET},
            {"fuse_entry_out", "attr", "" + FuseAttr.ENTRY_ATTR_OFFSET},
            {"fuse_attr_out", "attr_valid_nsec", "" + FuseAttr.ATTR_OUT_VALID_NSEC_OFFSET},
            {"fuse_attr_out", "attr", "" + FuseAttr.ATTR_OUT_ATTR_OFFSET},
            {"fuse_open_out", "open_flags", "" + FuseOpen.OUT_OPEN_FLAGS_OFFSET},
            {"fuse_release_in", "fh", "" + FuseOpen.FH_OFFSET},
            {"fuse_read_in", "offset", "" + FuseRead.OFFSET_OFFSET},
            {"fuse_read_in", "size", "" + FuseRead.SIZE_OFFSET},
            {"fuse_dirent", "off", "" + FuseDirent.OFF_OFFSET},
            {"fuse_dirent", "namelen", "" + FuseDirent.NAMELEN_OFFSET},
            {"fuse_dirent", "type", "" + FuseDirent.TYPE_OFFSET},
            {"fuse_dirent", "name", "" + FuseDirent.NAME_OFFSET},
            {"fuse_direntplus", "dirent", "" + FuseDirent.PLUS_DIRENT_OFFSET},
            {"fuse_forget_one", "nlookup", "" + FuseArgs.FORGET_ONE_NLOOKUP_OFFSET},
            {"fuse_kstatfs", "bsize", "" + FuseArgs.STATFS_BSIZE_OFFSET},
            {"fuse_kstatfs", "namelen", "" + FuseArgs.STATFS_NAMELEN_OFFSET},
            {"fuse_kstatfs", "frsize", "" + FuseArgs.STATFS_FRSIZE_OFFSET},
            {"fuse_notify_inval_inode_out", "ino", "" + FuseNotify.INODE_INO_OFFSET},
            {"fuse_notify_inval_inode_out", "off", "" + FuseNotify.INODE_OFF_OFFSET},
            {"fuse_notify_inval_inode_out", "len", "" + FuseNotify.INODE_LEN_OFFSET},
            {"fuse_notify_inval_entry_out", "parent", "" + FuseNotify.ENTRY_PARENT_OFFSET},
            {"fuse_notify_inval_entry_out", "namelen", "" + FuseNotify.ENTRY_NAMELEN_OFFSET},
            {"fuse_notify_inval_entry_out", "flags", "" + FuseNotify.ENTRY_FLAGS_OFFSET},
        };
        final String[][] sizes = {
            {"fuse_in_header", "" + FuseInHeader.LENGTH},
            {"fuse_out_header", "" + FuseOutHeader.LENGTH},
            {"fuse_init_out", "" + FuseInit.OUT_LENGTH},
            {"fuse_attr", "" + FuseAttr.LENGTH},
            {"fuse_entry_out", "" + FuseAttr.ENTRY_LENGTH},
            {"fuse_attr_out", "" + FuseAttr.ATTR_OUT_LENGTH},
            {"fuse_open_out", "" + FuseOpen.OUT_LENGTH},
            {"fuse_read_in", "" + FuseRead.LENGTH},
            {"fuse_batch_forget_in", "" + FuseArgs.BATCH_FORGET_LENGTH},
            {"fuse_forget_one", "" + FuseArgs.FORGET_ONE_LENGTH},
            {"fuse_getxattr_out", "" + FuseArgs.XATTR_OUT_LENGTH},
            {"fuse_statfs_out", "" + FuseArgs.STATFS_LENGTH},
            {"fuse_notify_inval_inode_out", "" + FuseNotify.INODE_LENGTH},
            {"fuse_notify_inval_entry_out", "" + FuseNotify.ENTRY_LENGTH},
        };
        final StringBuilder c = new StringBuilder(
            "#include <stdio.h>\n#include <stddef.h>\n#include <linux/fuse.h>\nint main(void)\n{\n");
        final Map<String, String> expected = new HashMap<>();
        for (final String[] f : fields)
        {
            c.append("printf(\"").append(f[0]).append('.').append(f[1]).append(" %zu\\n\", offsetof(struct ")
                .append(f[0]).append(", ").append(f[1]).append("));\n");
            expected.put(f[0] + "." + f[1], f[2]);
        }
        for (final String[] s : sizes)
        {
            c.append("printf(\"sizeof ").append(s[0]).append(" %zu\\n\", sizeof(struct ").append(s[0])
                .append("));\n");
            expected.put("sizeof " + s[0], s[1]);
        }
        c.append("printf(\"FUSE_ASYNC_READ %llu\\nFUSE_DO_READDIRPLUS %llu\\nFUSE_PARALLEL_DIROPS %llu\\n" +
            "FUSE_MAX_PAGES %llu\\nFUSE_CACHE_SYMLINKS %llu\\nFUSE_INIT_EXT %llu\\nFOPEN_KEEP_CACHE %llu\\n\", " +
            "(unsigned long long)FUSE_ASYNC_READ, (unsigned long long)FUSE_DO_READDIRPLUS, " +
            "(unsigned long long)FUSE_PARALLEL_DIROPS, (unsigned long long)FUSE_MAX_PAGES, " +
            "(unsigned long long)FUSE_CACHE_SYMLINKS, (unsigned long long)FUSE_INIT_EXT, " +
            "(unsigned long long)FOPEN_KEEP_CACHE);\n" +
            "printf(\"FUSE_NOTIFY_INVAL_INODE %d\\nFUSE_NOTIFY_INVAL_ENTRY %d\\n\", " +
            "(int)FUSE_NOTIFY_INVAL_INODE, (int)FUSE_NOTIFY_INVAL_ENTRY);\nreturn 0;\n}\n");
        expected.put("FUSE_ASYNC_READ", "" + FuseInit.ASYNC_READ);
        expected.put("FUSE_DO_READDIRPLUS", "" + FuseInit.DO_READDIRPLUS);
        expected.put("FUSE_PARALLEL_DIROPS", "" + FuseInit.PARALLEL_DIROPS);
        expected.put("FUSE_MAX_PAGES", "" + FuseInit.MAX_PAGES);
        expected.put("FUSE_CACHE_SYMLINKS", "" + FuseInit.CACHE_SYMLINKS);
        expected.put("FUSE_INIT_EXT", "" + FuseInit.INIT_EXT);
        expected.put("FOPEN_KEEP_CACHE", "" + FuseOpen.FOPEN_KEEP_CACHE);
        expected.put("FUSE_NOTIFY_INVAL_INODE", "" + FuseNotify.INVAL_INODE);
        expected.put("FUSE_NOTIFY_INVAL_ENTRY", "" + FuseNotify.INVAL_ENTRY);

        final Path source = Files.writeString(dir.resolve("offsets.c"), c);
        final Path binary = dir.resolve("offsets");
        final Process cc = new ProcessBuilder("cc", "-o", binary.toString(), source.toString())
            .redirectErrorStream(true).start();
        final String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, cc.exitValue(), ccOut);
        final Process run = new ProcessBuilder(binary.toString()).start();
        final String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(10, TimeUnit.SECONDS));
        int checked = 0;
        for (final String line : out.split("\n"))
        {
            final int space = line.lastIndexOf(' ');
            assertEquals(line.substring(space + 1), expected.get(line.substring(0, space)), line);
            checked++;
        }
        assertEquals(expected.size(), checked);
    }

    @Test
    void direntsArePaddedToEightBytes()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        buffer.setMemory(0, 256, (byte)0x55);
        final int length = FuseDirent.encode(buffer, 0, 7, 3, FuseDirent.DT_REG, "abcde".getBytes());
        assertEquals(32, length);
        assertEquals(32, FuseDirent.recordLength(5, false));
        assertEquals(32 + 128, FuseDirent.recordLength(5, true));
        assertEquals(24, FuseDirent.recordLength(0, false));
        assertEquals(7, buffer.getLong(FuseDirent.INO_OFFSET));
        assertEquals(3, buffer.getLong(FuseDirent.OFF_OFFSET));
        assertEquals(5, buffer.getInt(FuseDirent.NAMELEN_OFFSET));
        for (int i = 24 + 5; i < 32; i++)
        {
            assertEquals(0, buffer.getByte(i), "padding byte " + i);
        }
        assertEquals(0x55, buffer.getByte(32), "nothing written past the record");
    }

    @Test
    void initAnswersOnlyFlagsTheKernelOffered()
    {
        final UnsafeBuffer in = new UnsafeBuffer(new byte[64]);
        in.putInt(FuseInit.FLAGS_OFFSET, (int)(FuseInit.ASYNC_READ | FuseInit.MAX_PAGES | (1L << 5)));
        in.putInt(FuseInit.IN_FLAGS2_OFFSET, 0xFFFF_FFFF);
        assertEquals(FuseInit.ASYNC_READ | FuseInit.MAX_PAGES | (1L << 5),
            FuseInit.offeredFlags(in, 0), "flags2 is ignored without INIT_EXT");
        in.putInt(FuseInit.FLAGS_OFFSET, (int)(FuseInit.ASYNC_READ | FuseInit.INIT_EXT));
        final long offered = FuseInit.offeredFlags(in, 0);
        assertEquals(FuseInit.ASYNC_READ | FuseInit.INIT_EXT | FuseInit.DIRECT_IO_ALLOW_MMAP,
            offered & FuseInit.WANTED_FLAGS);

        final UnsafeBuffer out = new UnsafeBuffer(new byte[64]);
        assertEquals(FuseInit.OUT_LENGTH, FuseInit.encodeReply(out, 0, 38, 131072, offered & FuseInit.WANTED_FLAGS));
        assertEquals(7, out.getInt(FuseInit.MAJOR_OFFSET));
        assertEquals(38, out.getInt(FuseInit.MINOR_OFFSET));
        assertEquals(256, out.getShort(FuseInit.MAX_PAGES_OFFSET));
        assertEquals((int)(FuseInit.DIRECT_IO_ALLOW_MMAP >>> 32), out.getInt(FuseInit.OUT_FLAGS2_OFFSET));
    }
}
