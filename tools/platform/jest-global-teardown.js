module.exports = () => require('./jest-global').teardown();
