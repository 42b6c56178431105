package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * One native block holding everything a {@code sendmsg}/{@code recvmsg} of one file descriptor with
 * {@code SCM_RIGHTS} needs: the {@code struct msghdr}, its one {@code struct iovec} (one data byte: a stream socket
 * carries no ancillary data without at least one byte of data) and a control buffer of
 * {@code CMSG_SPACE(sizeof(int))} holding one {@code struct cmsghdr} and the descriptor. Offsets are those of LP64
 * Linux (x86_64, aarch64), from {@code <bits/socket.h>} and {@code <bits/types/struct_iovec.h>}.
 *
 * <pre>
 * offset field            size  value
 *        msghdr
 *    0   msg_name          8    0 (a connected socket: no address)
 *    8   msg_namelen       4    0, then 4 bytes of padding
 *   16   msg_iov           8    address of the iovec at 56
 *   24   msg_iovlen        8    1
 *   32   msg_control       8    address of the cmsghdr at 72
 *   40   msg_controllen    8    24 = CMSG_SPACE(4); recvmsg sets what it filled
 *   48   msg_flags         4    set by recvmsg (MSG_CTRUNC), then 4 bytes of padding
 *        iovec
 *   56   iov_base          8    address of the data byte at 96
 *   64   iov_len           8    1
 *        cmsghdr and its data
 *   72   cmsg_len          8    20 = CMSG_LEN(4)
 *   80   cmsg_level        4    SOL_SOCKET
 *   84   cmsg_type         4    SCM_RIGHTS
 *   88   the descriptor    4    CMSG_DATA, then 4 bytes of padding
 *   96   data byte         1    then 7 bytes of padding: 104 bytes in all
 * </pre>
 * Not thread safe; one instance per call (the calls are rare: one per mount).
 */
final class ScmRightsMessage implements AutoCloseable
{
    static final int SOL_SOCKET = 1;
    static final int SCM_RIGHTS = 1;
    /** recvmsg flag: the received descriptor is close-on-exec from the start. */
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** msg_flags bit: the control buffer was too small; extra descriptors were dropped (and closed). */
    static final int MSG_CTRUNC = 0x08;

    static final int MSG_NAME_OFFSET = 0;
    static final int MSG_NAMELEN_OFFSET = 8;
    static final int MSG_IOV_OFFSET = 16;
    static final int MSG_IOVLEN_OFFSET = 24;
    static final int MSG_CONTROL_OFFSET = 32;
    static final int MSG_CONTROLLEN_OFFSET = 40;
    static final int MSG_FLAGS_OFFSET = 48;
    static final int MSGHDR_SIZE = 56;

    static final int IOV_OFFSET = MSGHDR_SIZE;
    static final int IOV_BASE_OFFSET = 0;
    static final int IOV_LEN_OFFSET = 8;
    static final int IOVEC_SIZE = 16;

    static final int CMSG_OFFSET = IOV_OFFSET + IOVEC_SIZE;
    static final int CMSG_LEN_OFFSET = 0;
    static final int CMSG_LEVEL_OFFSET = 8;
    static final int CMSG_TYPE_OFFSET = 12;
    /** CMSG_DATA: right after the 16-byte header, already aligned to 8. */
    static final int CMSG_DATA_OFFSET = 16;
    /** CMSG_LEN(sizeof(int)). */
    static final int CMSG_LEN_ONE_FD = CMSG_DATA_OFFSET + 4;
    /** CMSG_SPACE(sizeof(int)): the data padded to 8. */
    static final int CMSG_SPACE_ONE_FD = CMSG_DATA_OFFSET + 8;

    static final int DATA_OFFSET = CMSG_OFFSET + CMSG_SPACE_ONE_FD;
    static final int SIZE = DATA_OFFSET + 8;

    private final Memory memory = new Memory(SIZE);
    private final long address = Pointer.nativeValue(memory);

    ScmRightsMessage()
    {
        memory.clear();
        memory.setLong(MSG_NAME_OFFSET, 0);
        memory.setInt(MSG_NAMELEN_OFFSET, 0);
        memory.setLong(MSG_IOV_OFFSET, address + IOV_OFFSET);
        memory.setLong(MSG_IOVLEN_OFFSET, 1);
        memory.setLong(MSG_CONTROL_OFFSET, address + CMSG_OFFSET);
        memory.setLong(MSG_CONTROLLEN_OFFSET, CMSG_SPACE_ONE_FD);
        memory.setLong(IOV_OFFSET + IOV_BASE_OFFSET, address + DATA_OFFSET);
        memory.setLong(IOV_OFFSET + IOV_LEN_OFFSET, 1);
    }

    /** @return the address of the {@code struct msghdr}, for sendmsg/recvmsg. */
    long address()
    {
        return address;
    }

    /**
     * Fill the control message with one descriptor, for sendmsg.
     *
     * @param fd the descriptor to pass.
     */
    void putFd(final int fd)
    {
        memory.setLong(CMSG_OFFSET + CMSG_LEN_OFFSET, CMSG_LEN_ONE_FD);
        memory.setInt(CMSG_OFFSET + CMSG_LEVEL_OFFSET, SOL_SOCKET);
        memory.setInt(CMSG_OFFSET + CMSG_TYPE_OFFSET, SCM_RIGHTS);
        memory.setInt(CMSG_OFFSET + CMSG_DATA_OFFSET, fd);
    }

    /**
     * The descriptor a recvmsg delivered, as CMSG_FIRSTHDR and CMSG_DATA find it.
     *
     * @return the descriptor, or -1 when the message carried no {@code SCM_RIGHTS} control message.
     */
    int receivedFd()
    {
        final long controlLength = memory.getLong(MSG_CONTROLLEN_OFFSET);
        if (controlLength < CMSG_LEN_ONE_FD ||
            memory.getLong(CMSG_OFFSET + CMSG_LEN_OFFSET) < CMSG_LEN_ONE_FD ||
            SOL_SOCKET != memory.getInt(CMSG_OFFSET + CMSG_LEVEL_OFFSET) ||
            SCM_RIGHTS != memory.getInt(CMSG_OFFSET + CMSG_TYPE_OFFSET))
        {
            return -1;
        }
        return memory.getInt(CMSG_OFFSET + CMSG_DATA_OFFSET);
    }

    /** @return msg_flags as recvmsg set them. */
    int flags()
    {
        return memory.getInt(MSG_FLAGS_OFFSET);
    }

    /** Free the native block. */
    public void close()
    {
        memory.close();
    }
}
