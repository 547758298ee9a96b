//! Tunable constants of the engine.

/// Tunable constants of the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Slot grid in minutes: starts fall on local times whose minute of the day is a
    /// multiple of it (default 15; 0 is treated as 1).
    pub grid_minutes: u32,
    /// Road distance divided by great-circle distance (default 1.3).
    pub detour_factor: f64,
    /// Average travel speed in km/h (default 40).
    pub speed_kmh: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grid_minutes: 15,
            detour_factor: 1.3,
            speed_kmh: 40.0,
        }
    }
}

impl Settings {
    /// The grid step in seconds, at least one minute.
    pub(crate) fn grid_seconds(&self) -> i64 {
        i64::from(self.grid_minutes.max(1)) * 60
    }
}
