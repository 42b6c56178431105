package dev.pcb.bench;

import dev.pcb.agent.PcbFile;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;

/**
 * What the JMH states that read through pcb share: a {@link ShareFixture} (a broker in its own process, this JVM
 * attached, one file open with its windows filled) and that file. Each subclass says how the fixture is started;
 * JMH runs the setup and teardown inherited from here.
 */
public abstract class FixtureState
{
    ShareFixture fixture;
    PcbFile file;

    /**
     * Start the broker, attach and fill the windows, as this state needs them.
     *
     * @return the started fixture.
     * @throws IOException when the broker or agent fails.
     */
    abstract ShareFixture start() throws IOException;

    /**
     * Start the fixture.
     *
     * @throws IOException when the broker or agent fails.
     */
    @Setup
    public void setup() throws IOException
    {
        fixture = start();
        file = fixture.file();
    }

    /** Stop the broker. */
    @TearDown
    public void tearDown()
    {
        fixture.close();
    }
}
