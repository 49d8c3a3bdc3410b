//! The floor under Fabula's first-frame figure on this machine: an empty eframe window with the
//! same features and options, timed from process start to its first presented frame (as
//! `fabula --quit-after-first-frame` is). Run: `cargo run --release --example first_frame_floor`.

use std::time::Instant;

struct Empty {
    started: Instant,
    frames: u32,
}

impl eframe::App for Empty {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frames += 1;
        // Frame 2's logic runs once frame 1 has been presented.
        if self.frames == 2 {
            println!("first_frame_ms={}", self.started.elapsed().as_millis());
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ctx.request_repaint();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default_margins().show(ui, |ui| {
            ui.label("Library");
        });
    }
}

fn main() -> Result<(), eframe::Error> {
    let started = Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("floor")
            .with_inner_size([1100.0, 760.0]),
        ..Default::default()
    };
    eframe::run_native(
        "floor",
        options,
        Box::new(move |_| Ok(Box::new(Empty { started, frames: 0 }))),
    )
}
