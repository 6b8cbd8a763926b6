fn main() {
    eprintln!("confab-server: not built yet");
    std::process::exit(1);
}
