//! Compiles `axis/v1/*.proto` with protox (pure Rust, so no system `protoc`) and
//! tonic-prost-build, and writes the file descriptor set for gRPC server reflection.
use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "axis/v1/exchange.proto",
        "axis/v1/directory.proto",
        "axis/v1/log.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("axis_v1_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Channels are built by the SDK with its own TLS settings.
        .build_transport(false)
        // prost with a smaller encode buffer (src/codec.rs): a Subscribe stream lives for days.
        .codec_path("crate::codec::AxisCodec")
        .compile_fds(fds)?;
    Ok(())
}
