mod discover;
mod resolve;
