//! Integration tests of the HTML report and SVG chart rendering.

mod charts;
mod report;
mod ticks;
