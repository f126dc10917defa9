"""Generated photos and videos: demo data and tests use real files, made here."""

from __future__ import annotations

import io
import random

import av
from PIL import Image, ImageDraw


def make_photo(
    text: str = "evidence",
    *,
    fmt: str = "JPEG",
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    exif_gps: bool = False,
) -> bytes:
    """A photo of a parcel-like box with ``text`` on it; optionally with GPS EXIF."""
    rng = random.Random(seed)
    background = tuple(rng.randint(150, 230) for _ in range(3))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    box = (w // 5, h // 4, w * 4 // 5, h * 4 // 5)
    draw.rectangle(box, fill=(176, 132, 84), outline=(90, 60, 30), width=max(2, w // 100))
    draw.line((box[0], box[1], box[2], box[3]), fill=(120, 80, 40), width=max(1, w // 200))
    draw.text((box[0] + 8, box[1] + 8), text, fill=(20, 20, 20))
    buffer = io.BytesIO()
    options: dict = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "PhoneModel X"  # Model
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (48.0, 51.0, 29.0)
        gps[3] = "E"
        gps[4] = (2.0, 17.0, 40.0)
        options["exif"] = exif
    if fmt == "JPEG":
        options["quality"] = 85
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def make_video(
    *,
    seconds: float = 1.0,
    size: tuple[int, int] = (160, 120),
    fps: int = 12,
    container: str = "mp4",
    codec: str | None = None,
    seed: int = 0,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """A short real video (H.264 in MP4, or VP9 in WebM) of a moving box."""
    codec = codec or ("libx264" if container == "mp4" else "libvpx-vp9")
    rng = random.Random(seed)
    colour = tuple(rng.randint(60, 200) for _ in range(3))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        if metadata:
            output.metadata.update(metadata)
        stream = output.add_stream(codec, rate=fps)
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{codec!r} is not a video codec")
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        frames = max(1, int(seconds * fps))
        for index in range(frames):
            image = Image.new("RGB", size, (235, 235, 235))
            draw = ImageDraw.Draw(image)
            x = (index * 7) % max(1, size[0] - 40)
            draw.rectangle((x, 30, x + 40, 80), fill=colour)
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def make_audio_only_mp4(seconds: float = 1.0) -> bytes:
    """An MP4 with a sound track and no picture."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("aac", rate=44100)
        stream.layout = "mono"
        samples = int(44100 * seconds)
        frame_size = stream.codec_context.frame_size or 1024
        pts = 0
        while pts < samples:
            frame = av.AudioFrame(format="fltp", layout="mono", samples=frame_size)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = 44100
            frame.pts = pts
            pts += frame_size
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()
