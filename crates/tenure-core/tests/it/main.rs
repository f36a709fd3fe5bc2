mod dataset;
