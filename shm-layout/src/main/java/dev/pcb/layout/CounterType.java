package dev.pcb.layout;

/**
 * What each counter in the counters file means: its type id (stored in the counter's metadata), what it is counted
 * per, its Prometheus name and kind, and a one-line help. {@code pcb stat} and the metrics endpoint are driven by
 * this table, so a counter added here shows up in both.
 * <p>
 * Type ids are part of the file layout: never renumber one, only add.
 */
public enum CounterType
{
    /** Request records read from all clients' rings. */
    REQUESTS(1, Scope.BROKER, "requests", "pcb_requests_total", Kind.COUNTER, 0,
        "Requests read from the rings of all clients."),
    /** ACQUIREs answered at once from a window already filled. */
    HITS(2, Scope.BROKER, "hits", "pcb_hits_total", Kind.COUNTER, 0,
        "ACQUIREs answered from a window already in memory."),
    /** ACQUIREs of a window not ready: a fill was started or joined. */
    MISSES(3, Scope.BROKER, "misses", "pcb_misses_total", Kind.COUNTER, 0,
        "ACQUIREs of a window not in memory: a fill was started or joined."),
    /** Windows filled completely from their source file. */
    FILLS(4, Scope.BROKER, "fills", "pcb_fills_total", Kind.COUNTER, 0,
        "Windows filled from their source files."),
    /** Bytes copied into windows by completed fills. */
    BYTES_FILLED(5, Scope.BROKER, "bytes filled", "pcb_bytes_filled_total", Kind.COUNTER, 0,
        "Bytes copied from source files into windows."),
    /** Time filler threads spent on completed fills, stored in ns. */
    FILL_TIME(6, Scope.BROKER, "fill time", "pcb_fill_time_seconds_total", Kind.COUNTER, 9,
        "Time spent filling windows, summed over filler threads."),
    /** READY windows taken back by CLOCK or as garbage of old versions to fill others. */
    EVICTIONS(7, Scope.BROKER, "evictions", "pcb_evictions_total", Kind.COUNTER, 0,
        "Unpinned windows evicted to make room for other fills."),
    /** Answers that a file changed on the host since it was opened. */
    STALE(8, Scope.BROKER, "stale answers", "pcb_stale_total", Kind.COUNTER, 0,
        "ACQUIREs answered STALE: the file changed on the host since it was opened."),
    /** Error answers of any code. */
    ERRORS(9, Scope.BROKER, "errors", "pcb_errors_total", Kind.COUNTER, 0,
        "Requests answered with an error, of any code."),
    /** ACQUIREs refused because every window was pinned or filling. */
    NO_SPACE(10, Scope.BROKER, "no-space answers", "pcb_no_space_total", Kind.COUNTER, 0,
        "ACQUIREs refused with NO_SPACE: every window of the share was pinned."),
    /** Files opened. */
    OPENS(11, Scope.BROKER, "opens", "pcb_opens_total", Kind.COUNTER, 0,
        "Files opened by clients."),
    /** RELEASEs of pinned windows. */
    RELEASES(12, Scope.BROKER, "releases", "pcb_releases_total", Kind.COUNTER, 0,
        "Windows released by clients."),
    /** Pins of retained windows the broker took back to make room. */
    RETAINED_RECLAIMS(16, Scope.BROKER, "retained reclaims", "pcb_retained_reclaims_total", Kind.COUNTER, 0,
        "Pins of windows clients retained but did not read, taken back by the broker to make room."),
    /** Fills started ahead of a reader going through a file in order. */
    READ_AHEAD_FILLS(17, Scope.BROKER, "read-ahead fills", "pcb_read_ahead_fills_total", Kind.COUNTER, 0,
        "Fills started ahead of a reader going through a file in order (also counted in fills when done)."),
    /** Client processes accepted into a slot. */
    CLIENTS_ATTACHED(13, Scope.BROKER, "clients attached", "pcb_clients_attached_total", Kind.COUNTER, 0,
        "Client processes accepted into a slot."),
    /** Clients the broker detached: silent past their lease, or with a corrupt or unread ring. */
    CLIENTS_DETACHED(14, Scope.BROKER, "clients detached", "pcb_clients_detached_total", Kind.COUNTER, 0,
        "Clients detached by the broker: lease expired, corrupt or unread ring."),
    /** Error answers of one code; the key names the code. */
    ERRORS_BY_CODE(15, Scope.ERROR_CODE, "errors", "pcb_error_answers_total", Kind.COUNTER, 0,
        "Requests answered with an error, by error code."),

    /** Windows in the share's data region. */
    WINDOWS(20, Scope.SHARE, "windows", "pcb_windows", Kind.GAUGE, 0,
        "Windows in the share's data region."),
    /** Windows of the share holding nothing. */
    WINDOWS_FREE(21, Scope.SHARE, "free", "pcb_windows_free", Kind.GAUGE, 0,
        "Windows of the share holding no data."),
    /** Windows of the share pinned by at least one client. */
    WINDOWS_PINNED(22, Scope.SHARE, "pinned", "pcb_windows_pinned", Kind.GAUGE, 0,
        "Windows of the share pinned by at least one client: never evicted."),
    /** Tree versions of the share current or still read (docs/versions.md). */
    TREE_VERSIONS_IN_USE(23, Scope.SHARE, "versions in use", "pcb_tree_versions_in_use", Kind.GAUGE, 0,
        "Tree versions of the share that are current or still have client sessions or open files."),
    /** ADVANCE requests answered for the share. */
    TREE_ADVANCES(24, Scope.SHARE, "advances", "pcb_tree_advances_total", Kind.COUNTER, 0,
        "Client sessions moved to the share's newest tree version (ADVANCE)."),
    /** Flips of the share's link the broker refused. */
    TREE_BAD_FLIPS(25, Scope.SHARE, "bad flips", "pcb_tree_bad_flips_total", Kind.COUNTER, 0,
        "Flips of the share's link refused: outside its directory, to a non-directory, or nowhere."),

    /** Client processes of the guest attached now. */
    GUEST_CLIENTS(30, Scope.GUEST, "clients", "pcb_guest_clients", Kind.GAUGE, 0,
        "Client processes of the guest attached now."),
    /** Files the guest's clients hold open. */
    GUEST_HANDLES(31, Scope.GUEST, "handles", "pcb_guest_handles", Kind.GAUGE, 0,
        "Files the guest's clients hold open."),
    /** Window pins the guest's clients hold, counting each pin. */
    GUEST_PINS(32, Scope.GUEST, "pins", "pcb_guest_pins", Kind.GAUGE, 0,
        "Window pins the guest's clients hold."),
    /** Requests read from the guest's rings. */
    GUEST_REQUESTS(33, Scope.GUEST, "requests", "pcb_guest_requests_total", Kind.COUNTER, 0,
        "Requests read from the guest's rings."),
    /** When the broker last saw a heartbeat of one of the guest's clients advance, epoch ms (0: never). */
    GUEST_LAST_HEARTBEAT(34, Scope.GUEST, "last heartbeat", "pcb_guest_last_heartbeat_timestamp_seconds",
        Kind.GAUGE, 3, "When the broker last saw a client of the guest heartbeat (Unix time, 0 for never)."),
    GUEST_DOORBELL_WAKEUPS(35, Scope.GUEST, "doorbell wakeups", "pcb_guest_doorbell_wakeups_total", Kind.COUNTER, 0,
        "Times the guest's doorbell register woke the broker (pcb broker --doorbell; rings close together count once)."),
    GUEST_INTERRUPTS(36, Scope.GUEST, "interrupts", "pcb_guest_interrupts_total", Kind.COUNTER, 0,
        "Interrupts the broker sent to the guest's doorbell device after answering it (pcb broker --doorbell)."),
    /**
     * Clients of the guest that wait for doorbell interrupts while no QEMU is connected to the guest's socket: a QEMU
     * started before this broker keeps the old server's eventfds (QEMU never reconnects), so they poll.
     */
    GUEST_STRANDED_DOORBELL_CLIENTS(37, Scope.GUEST, "stranded doorbell clients",
        "pcb_guest_stranded_doorbell_clients", Kind.GAUGE, 0,
        "Clients of the guest waiting for doorbell interrupts with no QEMU on its socket (its QEMU holds an old " +
        "broker's eventfds): they poll.");

    /**
     * What a counter is counted per; the counter's key names the share, guest or error code.
     */
    public enum Scope
    {
        /** One for the whole broker; empty key. */
        BROKER(""),
        /** One per share. */
        SHARE("share"),
        /** One per guest. */
        GUEST("guest"),
        /** One per error code. */
        ERROR_CODE("code");

        private final String label;

        Scope(final String label)
        {
            this.label = label;
        }

        /**
         * Prometheus label name for the key.
         *
         * @return the label name, empty for {@link #BROKER}.
         */
        public String label()
        {
            return label;
        }
    }

    /**
     * Prometheus metric kind.
     */
    public enum Kind
    {
        /** Only ever grows while the broker lives. */
        COUNTER("counter"),
        /** Goes up and down. */
        GAUGE("gauge");

        private final String text;

        Kind(final String text)
        {
            this.text = text;
        }

        /**
         * The TYPE keyword of the Prometheus text format.
         *
         * @return "counter" or "gauge".
         */
        public String text()
        {
            return text;
        }
    }

    private static final CounterType[] BY_TYPE_ID = new CounterType[64];

    static
    {
        for (final CounterType type : values())
        {
            BY_TYPE_ID[type.typeId] = type;
        }
    }

    private final int typeId;
    private final Scope scope;
    private final String title;
    private final String metricName;
    private final Kind kind;
    private final int decimalShift;
    private final String help;

    CounterType(
        final int typeId,
        final Scope scope,
        final String title,
        final String metricName,
        final Kind kind,
        final int decimalShift,
        final String help)
    {
        this.typeId = typeId;
        this.scope = scope;
        this.title = title;
        this.metricName = metricName;
        this.kind = kind;
        this.decimalShift = decimalShift;
        this.help = help;
    }

    /**
     * Type id stored in the counter's metadata.
     *
     * @return the stable number.
     */
    public int typeId()
    {
        return typeId;
    }

    /**
     * What the counter is counted per.
     *
     * @return the scope.
     */
    public Scope scope()
    {
        return scope;
    }

    /**
     * Short human name, for {@code pcb stat} and labels.
     *
     * @return the title.
     */
    public String title()
    {
        return title;
    }

    /**
     * Prometheus metric name, by Prometheus conventions (base units, {@code _total} for counters).
     *
     * @return the metric name.
     */
    public String metricName()
    {
        return metricName;
    }

    /**
     * Prometheus metric kind.
     *
     * @return counter or gauge.
     */
    public Kind kind()
    {
        return kind;
    }

    /**
     * Decimal places to shift the stored value left to get the metric's base unit: 9 for values stored in ns and
     * exported in seconds, 3 for ms, 0 when stored as exported. Stored values are integers so the conductor never
     * does floating point on the request path.
     *
     * @return the shift.
     */
    public int decimalShift()
    {
        return decimalShift;
    }

    /**
     * One-line help, for the Prometheus HELP line.
     *
     * @return the help text.
     */
    public String help()
    {
        return help;
    }

    /**
     * The counter type of a stored type id.
     *
     * @param typeId as stored in counter metadata.
     * @return the type, or null for an id this code does not know (a newer broker's).
     */
    public static CounterType of(final int typeId)
    {
        return typeId >= 0 && typeId < BY_TYPE_ID.length ? BY_TYPE_ID[typeId] : null;
    }
}
