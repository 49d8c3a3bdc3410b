//! Copy buttons that say "Copied" for a moment after a click, so the user sees it worked.

/// How long "Copied" stays on the button.
const SHOWN_FOR_S: f64 = 1.5;

/// A small button labelled `label` that puts `text()` on the system clipboard; it reads "Copied"
/// for a moment afterwards. `text` runs only on a click (it may build a long string).
pub fn copy_button(
    ui: &mut egui::Ui,
    label: &str,
    hover: &str,
    text: impl FnOnce() -> String,
) -> egui::Response {
    let id = ui.make_persistent_id(("copied", label));
    let now = ui.input(|i| i.time);
    let copied_at = ui.data(|d| d.get_temp::<f64>(id));
    let showing = copied_at.is_some_and(|at| now - at < SHOWN_FOR_S);
    let response = ui
        .small_button(if showing { "Copied" } else { label })
        .on_hover_text(hover);
    if response.clicked() {
        ui.ctx().copy_text(text());
        ui.data_mut(|d| d.insert_temp(id, now));
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs_f64(SHOWN_FOR_S));
    } else if let Some(at) = copied_at {
        if showing {
            let left = (SHOWN_FOR_S - (now - at)).max(0.05);
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(left));
        } else {
            ui.data_mut(|d| d.remove::<f64>(id));
        }
    }
    response
}
